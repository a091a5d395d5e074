"""Infrastructure: file io, ONNX Runtime sessions, packaged files, CPU facts, dlib model files, report writing."""
