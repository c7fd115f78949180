build-fuzz-s1/obj/pipeline.o: src/pipeline.c include/lc_pipeline.h \
  include/lc_config.h include/lc_classify.h include/lc_common.h \
  include/lc_schema.h include/lc_users.h include/lc_metrics.h \
  include/lc_refresh.h include/lc_kafka.h include/lc_log.h

include/lc_pipeline.h:

include/lc_config.h:

include/lc_classify.h:

include/lc_common.h:

include/lc_schema.h:

include/lc_users.h:

include/lc_metrics.h:

include/lc_refresh.h:

include/lc_kafka.h:

include/lc_log.h:
