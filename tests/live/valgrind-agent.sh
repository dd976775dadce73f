#!/bin/bash
# Runs the agent under valgrind memcheck: any invalid access or definite leak makes it exit 99.
agent=${HIDS_VALGRIND_AGENT:?set HIDS_VALGRIND_AGENT to the agent binary}
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --track-fds=no "$agent" "$@"
