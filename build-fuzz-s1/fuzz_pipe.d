build-fuzz-s1/fuzz_pipe: tests/fuzz/fuzz_pipe.c tests/fuzz/fuzz_checks.h \
  include/lc_classify.h include/lc_common.h include/lc_schema.h \
  include/lc_users.h include/lc_config.h include/lc_json.h \
  include/lc_pipe.h include/lc_metrics.h

tests/fuzz/fuzz_checks.h:

include/lc_classify.h:

include/lc_common.h:

include/lc_schema.h:

include/lc_users.h:

include/lc_config.h:

include/lc_json.h:

include/lc_pipe.h:

include/lc_metrics.h:
