build-fuzz/obj/json.o: src/json.c include/lc_json.h

include/lc_json.h:
