//! The `image-factory` binary (commands and server come next).

fn main() {}
