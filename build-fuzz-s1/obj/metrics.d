build-fuzz-s1/obj/metrics.o: src/metrics.c include/lc_metrics.h \
  include/lc_classify.h include/lc_common.h include/lc_schema.h \
  include/lc_users.h include/lc_log.h

include/lc_metrics.h:

include/lc_classify.h:

include/lc_common.h:

include/lc_schema.h:

include/lc_users.h:

include/lc_log.h:
