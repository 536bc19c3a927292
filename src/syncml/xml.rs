//! XML codec (in progress).
