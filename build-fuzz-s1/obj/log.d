build-fuzz-s1/obj/log.o: src/log.c include/lc_log.h

include/lc_log.h:
