# packaging.cmake: the install layout beyond the binary (config, systemd
# unit, man pages, docs) and the Debian package (CPack DEB). Included by the
# top CMakeLists.txt; the binary's own install rule lives there.
#
#   cmake --install BUILD                  # onto this machine (prefix /usr/local by default)
#   cpack --config BUILD/CPackConfig.cmake # hids-agent_VERSION-1_ARCH.deb, prefix /usr
#
# The config and the unit have absolute destinations (/etc/hids-agent,
# /lib/systemd/system) whatever the prefix, as Debian expects.

set(HIDS_CONF_DIR /etc/hids-agent)
set(HIDS_UNIT_DIR /lib/systemd/system CACHE PATH "Where the systemd unit is installed")
set(HIDS_DEPLOY_DIR ${PROJECT_SOURCE_DIR}/deploy)
set(HIDS_PKG_OUT ${PROJECT_BINARY_DIR}/packaging)

# Man pages, gzipped at build time (Debian policy 12.1; CPack does not).
set(HIDS_MAN_GZ)
foreach(page hids-agent.8 hids-agent.conf.5)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" sect ${page})
  set(gz ${HIDS_PKG_OUT}/man/${page}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${HIDS_PKG_OUT}/man
    COMMAND gzip -9 -n -c ${PROJECT_SOURCE_DIR}/docs/${page} > ${gz}
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/${page}
    COMMENT "Compressing ${page}"
    VERBATIM)
  list(APPEND HIDS_MAN_GZ ${gz})
  install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sect})
endforeach()
add_custom_target(hids_manpages ALL DEPENDS ${HIDS_MAN_GZ})

# The config: a conffile in the package. A plain `cmake --install` over an
# edited copy leaves it alone and puts the new default beside it as
# hids-agent.conf.dist, the way dpkg would. It holds no secret and is
# installed 0644 root:root; the package's postinst makes it and its
# directory root:hids-agent 0640/0750 for the keys an admin adds there.
install(CODE "
  set(_dst \"\$ENV{DESTDIR}${HIDS_CONF_DIR}/hids-agent.conf\")
  set(_src \"${HIDS_DEPLOY_DIR}/hids-agent.conf\")
  set(_rename hids-agent.conf)
  if(EXISTS \"\${_dst}\")
    file(SHA256 \"\${_dst}\" _have)
    file(SHA256 \"\${_src}\" _want)
    if(NOT _have STREQUAL _want)
      set(_rename hids-agent.conf.dist)
      message(STATUS \"Keeping the edited \${_dst}; the new default is hids-agent.conf.dist beside it\")
    endif()
  endif()
  file(INSTALL DESTINATION \"${HIDS_CONF_DIR}\" TYPE FILE
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    RENAME \${_rename} FILES \"\${_src}\")
")

# The unit names the binary by its full path: rewrite it for the prefix the
# install actually uses (/usr in the package, /usr/local by default).
install(CODE "
  file(READ \"${HIDS_DEPLOY_DIR}/hids-agent.service\" _unit)
  if(IS_ABSOLUTE \"${CMAKE_INSTALL_SBINDIR}\")
    set(_bin \"${CMAKE_INSTALL_SBINDIR}/hids-agent\")
  else()
    set(_bin \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}/hids-agent\")
  endif()
  string(REPLACE \"/usr/sbin/hids-agent\" \"\${_bin}\" _unit \"\${_unit}\")
  file(WRITE \"${HIDS_PKG_OUT}/hids-agent.service\" \"\${_unit}\")
  file(INSTALL DESTINATION \"${HIDS_UNIT_DIR}\" TYPE FILE
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    FILES \"${HIDS_PKG_OUT}/hids-agent.service\")
")

# The service's system user, for systemd-sysusers (sysusers.d(5)): what
# creates it on installs without the package. The package's postinst
# creates the same user with adduser.
install(FILES ${HIDS_DEPLOY_DIR}/hids-agent.sysusers DESTINATION lib/sysusers.d
  RENAME hids-agent.conf)

# Documentation: README, every docs/*.md, and the example config.
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
  FILES_MATCHING PATTERN "*.md")
install(FILES ${HIDS_DEPLOY_DIR}/hids-agent.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
if(EXISTS ${HIDS_DEPLOY_DIR}/collectors)
  install(DIRECTORY ${HIDS_DEPLOY_DIR}/collectors/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/collectors)
endif()

# The Debian package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hids-agent)
set(CPACK_PACKAGE_VENDOR "hids-agent")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "hids-agent maintainers <root@localhost>" CACHE STRING
  "Maintainer field of the .deb")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "host intrusion detection agent for Linux process events")
# CPack puts the summary first and indents each line of this below it.
string(JOIN "\n" CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "hids-agent subscribes to the kernel's process-events connector, reads the"
  "argv, executable, working directory and credentials of each new process"
  "from /proc the moment the kernel reports it, and writes one Elastic Common"
  "Schema JSON line per fork, exec, exit, uid, gid, sid, ptrace, comm and"
  "coredump event, to standard output or over TLS to one or more collectors."
  "Lost events are counted and reported, never silent.")
set(CPACK_DEBIAN_PACKAGE_NAME hids-agent)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CPACK_PACKAGE_CONTACT})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps (package dpkg-dev), and are
# added to these: postinst creates the hids-agent user with adduser.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${HIDS_DEPLOY_DIR}/debian/conffiles
  ${HIDS_DEPLOY_DIR}/debian/postinst
  ${HIDS_DEPLOY_DIR}/debian/prerm
  ${HIDS_DEPLOY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
