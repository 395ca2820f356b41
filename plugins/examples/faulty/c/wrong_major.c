/* A library built against a future major version: the host must refuse it. */
#include "runner_plugin.h"

runner_abi_version runner_plugin_abi(void) {
    runner_abi_version v = {RUNNER_MAGIC, 2, 0};
    return v;
}
