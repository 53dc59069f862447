"""The first bytes of real file formats, for tests of content sniffing and uploads."""

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(8)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(50)  # a Windows program
