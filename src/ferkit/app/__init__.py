"""The application: the Analyzer, its results, video and webcam processing, drawing, jobs, benchmarks."""
