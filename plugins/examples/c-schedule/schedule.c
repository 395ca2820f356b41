/* A runner plugin library written in C: the schedule `polynomial-c`, alpha = t^p, sigma = 1 - t^p,
 * gamma = 0, with the parameter p (default 2, must be > 0). C has no panics to catch: every
 * failure is a RUNNER_STATUS_ERROR with its message written into the host's buffer. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner_plugin.h"

#define STR(s) {s, sizeof(s) - 1}

typedef struct polynomial {
    double p;
} polynomial;

static void set_error(runner_error *err, const char *message) {
    if (err == NULL || err->ptr == NULL) return;
    size_t n = strlen(message);
    if (n > err->cap) n = err->cap; /* the message is ASCII: any cut is a character boundary */
    memcpy(err->ptr, message, n);
    err->len = n;
}

static runner_status create(const runner_param *params, size_t n, void **out, runner_error *err) {
    double p = 2.0;
    for (size_t i = 0; i < n; i++) {
        if (params[i].name.len == 1 && params[i].name.ptr[0] == 'p' && params[i].kind == RUNNER_PARAM_FLOAT) {
            p = params[i].float_value;
        }
    }
    if (!(p > 0.0)) {
        char message[128];
        snprintf(message, sizeof message, "parameter `p` of polynomial-c: must be > 0, got %g", p);
        set_error(err, message);
        return RUNNER_STATUS_ERROR;
    }
    polynomial *self = malloc(sizeof *self);
    if (self == NULL) {
        set_error(err, "polynomial-c: out of memory");
        return RUNNER_STATUS_ERROR;
    }
    self->p = p;
    *out = self;
    return RUNNER_STATUS_OK;
}

static void destroy(void *instance) { free(instance); }

static runner_status coefficients(const void *instance, const double *t, size_t n, runner_coefficients *out,
                                  runner_error *err) {
    (void)err;
    double p = ((const polynomial *)instance)->p;
    for (size_t i = 0; i < n; i++) {
        double a = pow(t[i], p);
        double da = t[i] > 0.0 ? p * pow(t[i], p - 1.0) : (p == 1.0 ? 1.0 : (p > 1.0 ? 0.0 : INFINITY));
        runner_coefficients c = {a, 1.0 - a, 0.0, da, -da, 0.0};
        out[i] = c;
    }
    return RUNNER_STATUS_OK;
}

static const runner_schedule_vtable vtable = {sizeof(runner_schedule_vtable), create, destroy, coefficients};

static const runner_param params[] = {
    {STR("p"), STR("the exponent of t (> 0)"), RUNNER_PARAM_FLOAT, 0, 2.0, 0, {NULL, 0}},
};

static const runner_plugin plugins[] = {
    {sizeof(runner_plugin), RUNNER_KIND_SCHEDULE, STR("polynomial-c"), STR("alpha = t^p, sigma = 1 - t^p, written in C"),
     params, 1, &vtable},
};

static const runner_library library = {sizeof(runner_library), STR("example-c-schedule"), STR("0.1.0"), plugins, 1};

runner_abi_version runner_plugin_abi(void) {
    runner_abi_version v = {RUNNER_MAGIC, RUNNER_ABI_MAJOR, RUNNER_ABI_MINOR};
    return v;
}

const runner_library *runner_plugin_library(void) { return &library; }
