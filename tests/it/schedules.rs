//! Tests of the schedules.
