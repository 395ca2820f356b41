/* The C ABI between the runner host and a plugin library (ABI 1.0).
 *
 * A plugin library exports two functions:
 *   runner_abi_version runner_plugin_abi(void);          frozen: read before anything else
 *   const runner_library *runner_plugin_library(void);   the descriptor, valid for ever
 *
 * The host accepts a library whose major version equals its own and whose minor is not newer.
 * Every table starts with its size in bytes and only grows at the end. Whoever allocates frees:
 * instances are freed by their own table's destroy, the library's strings and tables live as
 * long as the library (never unloaded), and what the host hands in lives for the call only.
 * Fallible functions return a status and write a UTF-8 message into the host's error buffer.
 * Strings are UTF-8 and not NUL-terminated. The Rust side of this header is the runner-abi
 * crate; a test compiles this file and compares every size, offset and constant with it. */

#ifndef RUNNER_PLUGIN_H
#define RUNNER_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUNNER_MAGIC 0x52554E4E45524142ULL /* "RUNNERAB" */
#define RUNNER_ABI_MAJOR 1
#define RUNNER_ABI_MINOR 0

typedef int32_t runner_status;
#define RUNNER_STATUS_OK 0
#define RUNNER_STATUS_ERROR 1
#define RUNNER_STATUS_PANIC 2

#define RUNNER_KIND_SCHEDULE 1
#define RUNNER_KIND_COUPLING 2
#define RUNNER_KIND_SOLVER 3
#define RUNNER_KIND_GRID 4
#define RUNNER_KIND_DATASET 5
#define RUNNER_KIND_METRIC 6

#define RUNNER_PARAM_FLOAT 1
#define RUNNER_PARAM_INT 2
#define RUNNER_PARAM_BOOL 3
#define RUNNER_PARAM_STR 4

#define RUNNER_TARGET_VELOCITY 1
#define RUNNER_TARGET_EPSILON 2
#define RUNNER_TARGET_DATA 3
#define RUNNER_TARGET_SCORE 4

#define RUNNER_SOLVER_ODE 1
#define RUNNER_SOLVER_ADAPTIVE 2
#define RUNNER_SOLVER_STOCHASTIC 3
#define RUNNER_SOLVER_DETERMINISTIC 4

#define RUNNER_METRIC_POINTS 1
#define RUNNER_METRIC_PATH 2
#define RUNNER_METRIC_LIKELIHOOD 3

typedef struct runner_abi_version {
    uint64_t magic;
    uint32_t major;
    uint32_t minor;
} runner_abi_version;

typedef struct runner_str {
    const char *ptr;
    size_t len;
} runner_str;

/* The host's buffer for an error message: write at most cap bytes at ptr, then set len. */
typedef struct runner_error {
    char *ptr;
    size_t cap;
    size_t len;
} runner_error;

/* A parameter: its declaration and default in a descriptor, its resolved value in create. */
typedef struct runner_param {
    runner_str name;
    runner_str help;
    uint32_t kind; /* RUNNER_PARAM_* */
    uint32_t boolean;
    double float_value;
    int64_t int_value;
    runner_str string;
} runner_param;

typedef struct runner_plugin {
    size_t size;
    uint32_t kind; /* RUNNER_KIND_* */
    runner_str name;
    runner_str summary;
    const runner_param *params;
    size_t n_params;
    const void *vtable; /* the table of its kind */
} runner_plugin;

typedef struct runner_library {
    size_t size;
    runner_str name;
    runner_str version;
    const runner_plugin *plugins;
    size_t n_plugins;
} runner_library;

typedef runner_status (*runner_create_fn)(const runner_param *params, size_t n, void **out, runner_error *err);
typedef void (*runner_destroy_fn)(void *instance);

typedef struct runner_coefficients {
    double alpha, sigma, gamma, d_alpha, d_sigma, d_gamma;
} runner_coefficients;

typedef struct runner_schedule_vtable {
    size_t size;
    runner_create_fn create;
    runner_destroy_fn destroy;
    runner_status (*coefficients)(const void *instance, const double *t, size_t n, runner_coefficients *out, runner_error *err);
} runner_schedule_vtable;

typedef struct runner_coupling_vtable {
    size_t size;
    runner_create_fn create;
    runner_destroy_fn destroy;
    runner_status (*pair)(const void *instance, const float *source, size_t n_source, const float *target, size_t n_target,
                          size_t dim, uint64_t seed, uint64_t *out, runner_error *err);
} runner_coupling_vtable;

typedef struct runner_schedule_ref {
    size_t size;
    const void *host;
    void (*coefficients)(const void *host, double t, runner_coefficients *out);
} runner_schedule_ref;

typedef struct runner_grid_vtable {
    size_t size;
    runner_create_fn create;
    runner_destroy_fn destroy;
    runner_status (*times)(const void *instance, size_t steps, double t_start, double t_end, const runner_schedule_ref *schedule,
                           double *out, runner_error *err);
} runner_grid_vtable;

typedef struct runner_dataset_vtable {
    size_t size;
    runner_create_fn create;
    runner_destroy_fn destroy;
    runner_status (*dim)(const void *instance, size_t *out, runner_error *err);
    runner_status (*sample)(const void *instance, size_t n, uint64_t seed, float *out, runner_error *err);
    runner_status (*mixture_components)(const void *instance, size_t *out, runner_error *err); /* optional */
    runner_status (*mixture)(const void *instance, double *weights, double *means, double *stds, runner_error *err); /* optional */
} runner_dataset_vtable;

typedef struct runner_path_integrals {
    size_t dim;
    size_t n;
    const double *source;
    const double *end;
    const double *energy;
    size_t n_target;
    const float *target;
} runner_path_integrals;

typedef struct runner_likelihood {
    size_t dim;
    size_t n;
    const double *log_density;
} runner_likelihood;

typedef struct runner_metric_vtable {
    size_t size;
    runner_create_fn create;
    runner_destroy_fn destroy;
    runner_status (*input)(const void *instance, uint32_t *out, runner_error *err);                 /* optional */
    runner_status (*max_points)(const void *instance, size_t dim, size_t *out, runner_error *err); /* optional */
    runner_status (*evaluate)(const void *instance, const float *samples, size_t n_samples, const float *target, size_t n_target,
                              size_t dim, double *out, runner_error *err);
    runner_status (*evaluate_path)(const void *instance, const runner_path_integrals *path, double *out, runner_error *err); /* optional */
    runner_status (*evaluate_likelihood)(const void *instance, const runner_likelihood *likelihood, double *out,
                                         runner_error *err); /* optional */
} runner_metric_vtable;

typedef struct runner_term {
    double coef;
    uint64_t handle;
} runner_term;

typedef struct runner_dynamics {
    size_t size;
    void *host;
    runner_status (*predict)(void *host, uint64_t x, double t, uint32_t target, uint64_t *out);
    runner_status (*lincomb)(void *host, const runner_term *terms, size_t n, uint64_t *out);
    runner_status (*noise_like)(void *host, uint64_t x, uint64_t *out);
    runner_status (*error_norm)(void *host, uint64_t a, uint64_t b, double *out);
    runner_status (*is_finite)(void *host, uint64_t x, uint32_t *out);
    void (*coefficients)(void *host, double t, runner_coefficients *out);
    void (*release)(void *host, uint64_t x);
} runner_dynamics;

typedef struct runner_remembered {
    double t;
    uint32_t target;
    uint32_t reserved;
    uint64_t value;
} runner_remembered;

typedef struct runner_step_context {
    size_t size;
    void *host;
    const double *grid;
    size_t grid_len;
    size_t index;
    void (*history)(void *host, const runner_remembered **out, size_t *len);
    void (*remember)(void *host, double t, uint32_t target, uint64_t value);
    void (*forget)(void *host, uint64_t value);
    void (*set_error_estimate)(void *host, uint64_t value);
} runner_step_context;

typedef struct runner_solver_info {
    uint32_t kind;
    uint32_t order;
    uint32_t error_order;
    uint32_t reserved;
    size_t evals_per_step;
} runner_solver_info;

typedef struct runner_solver_vtable {
    size_t size;
    runner_create_fn create;
    runner_destroy_fn destroy;
    runner_status (*info)(const void *instance, runner_solver_info *out, runner_error *err);
    runner_status (*nfe)(const void *instance, size_t steps, size_t *out, runner_error *err); /* optional */
    runner_status (*default_nfe)(const void *instance, size_t *out, runner_error *err);       /* optional */
    runner_status (*step)(const void *instance, const runner_dynamics *dynamics, const runner_step_context *context, uint64_t x,
                          double t, double t_next, uint64_t *out, runner_error *err);
} runner_solver_vtable;

#ifdef __cplusplus
}
#endif

#endif
