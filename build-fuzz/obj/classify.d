build-fuzz/obj/classify.o: src/classify.c include/lc_classify.h \
  include/lc_common.h include/lc_schema.h include/lc_users.h \
  include/lc_json.h

include/lc_classify.h:

include/lc_common.h:

include/lc_schema.h:

include/lc_users.h:

include/lc_json.h:
