build-fuzz-s1/obj/json.o: src/json.c include/lc_json.h

include/lc_json.h:
