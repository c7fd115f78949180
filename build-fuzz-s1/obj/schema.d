build-fuzz-s1/obj/schema.o: src/schema.c include/lc_schema.h \
  include/lc_common.h include/lc_json.h

include/lc_schema.h:

include/lc_common.h:

include/lc_json.h:
