"""Runtime: the Analyzer, video processing, drawing, ONNX sessions, benchmarks."""
