// Early stopping: modes, patience, min_delta, the new-best flag the trainer uses to keep the best
// weights, NaN handling and the state a checkpoint saves. (It lives in train/, next to the
// trainer that shares it; its tests sit here until tests/train/ exists.)
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <ctformer/train/early_stopping.hpp>

using ctformer::early_stopping;
using ctformer::stop_mode;

TEST_CASE("early stopping on a loss: patience counts evaluations without improvement", "[metrics]") {
  early_stopping es(stop_mode::min, 2);
  CHECK_THROWS_WITH(es.best(), Catch::Contains("no evaluation recorded yet"));
  CHECK_FALSE(es.should_stop(1.0, 10));
  CHECK(es.improved());
  CHECK_FALSE(es.should_stop(0.8, 20));
  CHECK(es.improved());
  CHECK_FALSE(es.should_stop(0.9, 30));  // bad 1
  CHECK_FALSE(es.improved());
  CHECK(es.bad_evaluations() == 1);
  CHECK_FALSE(es.should_stop(0.7, 40));  // improvement resets the count
  CHECK(es.bad_evaluations() == 0);
  CHECK_FALSE(es.should_stop(0.7, 50));  // equal is not better: bad 1
  CHECK(es.should_stop(0.75, 60));       // bad 2 = patience: stop
  CHECK(es.stopped());
  CHECK(es.best() == 0.7);
  CHECK(es.best_step() == 40);
  CHECK(es.should_stop(0.1, 70));  // stays stopped, and records nothing more
  CHECK_FALSE(es.improved());
  CHECK(es.best() == 0.7);
}

TEST_CASE("early stopping on a score with min_delta; patience 0 and 1; NaN", "[metrics]") {
  early_stopping es({.mode = stop_mode::max, .patience = 3, .min_delta = 0.01});
  CHECK_FALSE(es.should_stop(0.80, 1));
  CHECK_FALSE(es.should_stop(0.805, 2));  // +0.005 < min_delta: not an improvement
  CHECK_FALSE(es.improved());
  CHECK_FALSE(es.should_stop(0.83, 3));
  CHECK(es.improved());
  CHECK(es.best() == 0.83);
  CHECK_FALSE(es.should_stop(std::nan(""), 4));  // NaN never improves
  CHECK_FALSE(es.improved());
  CHECK_FALSE(es.should_stop(0.5, 5));
  CHECK(es.should_stop(0.835, 6));
  CHECK(es.best_step() == 3);

  early_stopping tracker(stop_mode::min, 0);  // patience 0: never stops, still tracks the best
  for (std::size_t i = 0; i < 20; ++i) CHECK_FALSE(tracker.should_stop(1.0 + double(i), i));
  CHECK(tracker.best() == 1.0);
  CHECK(tracker.bad_evaluations() == 19);
  early_stopping impatient(stop_mode::min, 1);
  CHECK_FALSE(impatient.should_stop(1.0, 0));
  CHECK(impatient.should_stop(1.0, 1));  // patience 1: the first evaluation without improvement stops

  early_stopping first_nan;
  CHECK_FALSE(first_nan.should_stop(std::nan(""), 0));
  CHECK_FALSE(first_nan.has_best());

  CHECK_THROWS_WITH(early_stopping(stop_mode::min, 1, -0.1), Catch::Contains("min_delta must be >= 0"));
}

TEST_CASE("early stopping state round-trips for exact resume", "[metrics]") {
  early_stopping a(stop_mode::min, 3);
  for (double v : {1.0, 0.9, 0.95}) a.should_stop(v, std::size_t(v * 100));
  early_stopping b(stop_mode::min, 3);
  b.set_state(a.get_state());
  for (double v : {0.97, 0.99}) CHECK(a.should_stop(v, 1) == b.should_stop(v, 1));
  CHECK(b.stopped());
  CHECK(b.best() == 0.9);
  b.reset();
  CHECK_FALSE(b.has_best());
  CHECK_FALSE(b.stopped());
}
