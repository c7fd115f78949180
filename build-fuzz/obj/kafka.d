build-fuzz/obj/kafka.o: src/kafka.c include/lc_kafka.h \
  include/lc_config.h include/lc_classify.h include/lc_common.h \
  include/lc_schema.h include/lc_users.h include/lc_log.h

include/lc_kafka.h:

include/lc_config.h:

include/lc_classify.h:

include/lc_common.h:

include/lc_schema.h:

include/lc_users.h:

include/lc_log.h:
