//! One module per packet kind (scaffold).
