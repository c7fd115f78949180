build-fuzz/obj/refresh.o: src/refresh.c include/lc_refresh.h \
  include/lc_metrics.h include/lc_classify.h include/lc_common.h \
  include/lc_schema.h include/lc_users.h include/lc_log.h

include/lc_refresh.h:

include/lc_metrics.h:

include/lc_classify.h:

include/lc_common.h:

include/lc_schema.h:

include/lc_users.h:

include/lc_log.h:
