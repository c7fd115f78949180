build-fuzz-s1/obj/users_file.o: src/users_file.c include/lc_users.h \
  include/lc_common.h

include/lc_users.h:

include/lc_common.h:
