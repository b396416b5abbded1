// A params struct's tensors as an in-memory exported table (what deploy/export.hpp writes into a
// header), for tests that bind a params_view the way firmware binds its weights in flash.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <ctformer/deploy/exported.hpp>
#include <ctformer/tensor/visit.hpp>

namespace ctformer::testing {

// p's tensors as an exported table (what export_header writes, here in memory).
template <class P>
struct exported_table {
  std::vector<std::string> names;
  std::vector<exported_tensor> table;
  explicit exported_table(const P& p) {
    for_each_tensor(p, [&](const tensor_info& info, const auto& t) {
      names.push_back(info.str());
      table.push_back({nullptr, t.data(), t.size() * sizeof(*t.data())});
    });
    for (std::size_t i = 0; i < table.size(); ++i) table[i].name = names[i].c_str();
  }
  std::span<const exported_tensor> span() const { return table; }
};

}  // namespace ctformer::testing
