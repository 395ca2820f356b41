/* A library of a newer minor version than any host: the host must refuse it. */
#include "runner_plugin.h"

runner_abi_version runner_plugin_abi(void) {
    runner_abi_version v = {RUNNER_MAGIC, RUNNER_ABI_MAJOR, 99};
    return v;
}
