build-fuzz-s1/obj/config.o: src/config.c include/lc_config.h \
  include/lc_classify.h include/lc_common.h include/lc_schema.h \
  include/lc_users.h

include/lc_config.h:

include/lc_classify.h:

include/lc_common.h:

include/lc_schema.h:

include/lc_users.h:
