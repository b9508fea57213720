"""Great Expectations suites, written as code, and the function that runs them on a frame."""
