/* A library with a valid version and no runner_plugin_library. */
#include "runner_plugin.h"

runner_abi_version runner_plugin_abi(void) {
    runner_abi_version v = {RUNNER_MAGIC, RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR};
    return v;
}
