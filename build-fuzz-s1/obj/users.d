build-fuzz-s1/obj/users.o: src/users.c include/lc_users.h \
  include/lc_common.h

include/lc_users.h:

include/lc_common.h:
