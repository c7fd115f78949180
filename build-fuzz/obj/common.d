build-fuzz/obj/common.o: src/common.c include/lc_common.h

include/lc_common.h:
