//! Tests of the targets.
