build-fuzz-s1/obj/pipe.o: src/pipe.c include/lc_pipe.h \
  include/lc_config.h include/lc_classify.h include/lc_common.h \
  include/lc_schema.h include/lc_users.h include/lc_metrics.h

include/lc_pipe.h:

include/lc_config.h:

include/lc_classify.h:

include/lc_common.h:

include/lc_schema.h:

include/lc_users.h:

include/lc_metrics.h:
