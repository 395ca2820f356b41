/* A library that exports the symbol by accident: the wrong magic. */
#include "runner_plugin.h"

runner_abi_version runner_plugin_abi(void) {
    runner_abi_version v = {0x0123456789ABCDEFULL, RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR};
    return v;
}
