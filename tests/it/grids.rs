//! Tests of the grids.
