build-fuzz/obj/mysql_loader.o: src/mysql_loader.c include/lc_mysql.h \
  include/lc_config.h include/lc_classify.h include/lc_common.h \
  include/lc_schema.h include/lc_users.h /usr/include/mariadb/mysql.h \
  /usr/include/mariadb/mariadb_com.h \
  /usr/include/mariadb/mariadb_version.h /usr/include/mariadb/ma_list.h \
  /usr/include/mariadb/mariadb_ctype.h \
  /usr/include/mariadb/mariadb_stmt.h

include/lc_mysql.h:

include/lc_config.h:

include/lc_classify.h:

include/lc_common.h:

include/lc_schema.h:

include/lc_users.h:

/usr/include/mariadb/mysql.h:

/usr/include/mariadb/mariadb_com.h:

/usr/include/mariadb/mariadb_version.h:

/usr/include/mariadb/ma_list.h:

/usr/include/mariadb/mariadb_ctype.h:

/usr/include/mariadb/mariadb_stmt.h:
