//! Remote build contexts (in progress).
