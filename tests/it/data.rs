//! Tests of the data.
