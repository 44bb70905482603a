"""What a compressed frame claims about itself, read from its header without decoding it.

A few kilobytes of JPEG, JPEG-LS or JPEG 2000 may announce a picture of billions of pixels, or
(progressive JPEG) tens of thousands of scans that each cost a full pass of the decoder. These
readers walk the markers only, so ingest can refuse such a file before any decoder allocates
or loops. Pure functions: bytes in, a FrameHeader out, ValueError for a header they cannot read.
"""

import re
from dataclasses import dataclass

# Start-of-frame markers of JPEG (ITU T.81 B.1.1.3): all SOFn except DHT (C4), JPG (C8), DAC (CC).
_JPEG_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_LS_SOF55 = 0xF7  # ITU T.87: start of a JPEG-LS frame; same layout as a JPEG SOF
_SOS = 0xDA
_EOI = 0xD9
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RST0-7 carry no length
# Inside entropy-coded data a 0xFF is either stuffed (FF 00), a restart marker (FF D0-D7) or the next marker.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")
# JPEG-LS stuffs bits instead: after 0xFF a data byte has its top bit clear, so a marker is FF 80-FF (T.87 A.1).
_NEXT_LS_MARKER = re.compile(rb"\xff[\x80-\xff]")
_J2K_SOC_SIZ = b"\xff\x4f\xff\x51"  # start of codestream, immediately followed by the SIZ segment


@dataclass(frozen=True)
class FrameHeader:
    width: int
    height: int
    components: int
    scans: int = 1  # progressive JPEG: how many passes the decoder would make (counted up to a limit)


def jpeg_header(data: bytes, *, max_scans: int = 1_000_000) -> FrameHeader:
    """JPEG (or JPEG-LS) bytes -> the SOF's size and components, and the number of scans (SOS markers).

    Counting stops at max_scans + 1: the caller only needs to know that there are too many.
    """
    if data[:2] != b"\xff\xd8":
        raise ValueError("no JPEG start-of-image marker")
    length = len(data)
    position, frame, scans, next_marker = 2, None, 0, _NEXT_MARKER
    while position < length:
        if data[position] != 0xFF:
            raise ValueError("a JPEG segment does not start with a marker")
        while position < length and data[position] == 0xFF:  # fill bytes may precede any marker
            position += 1
        if position >= length:
            break
        marker = data[position]
        position += 1
        if marker == _EOI:
            break
        if marker in _STANDALONE:
            continue
        segment_length = int.from_bytes(data[position : position + 2], "big")
        if segment_length < 2 or position + segment_length > length:
            raise ValueError("a JPEG segment runs past the end of the data")
        segment = data[position + 2 : position + segment_length]
        position += segment_length
        if frame is None and (marker in _JPEG_SOF_MARKERS or marker == _JPEG_LS_SOF55):
            if len(segment) < 6:
                raise ValueError("the JPEG frame header is too short")
            # P (1 byte), Y lines (2), X samples per line (2), Nf components (1)
            height, width = int.from_bytes(segment[1:3], "big"), int.from_bytes(segment[3:5], "big")
            frame = (width, height, segment[5])
            next_marker = _NEXT_LS_MARKER if marker == _JPEG_LS_SOF55 else _NEXT_MARKER
        elif marker == _SOS:
            scans += 1
            if scans > max_scans:
                break
            found = next_marker.search(data, position)  # skip the scan's entropy-coded data
            if found is None:
                break
            position = found.start()
    if frame is None:
        raise ValueError("no JPEG frame header")
    return FrameHeader(width=frame[0], height=frame[1], components=frame[2], scans=scans)


def j2k_header(data: bytes) -> FrameHeader:
    """A JPEG 2000 codestream (or a JP2 file holding one) -> the SIZ segment's image size and components."""
    start = 0 if data.startswith(_J2K_SOC_SIZ) else data.find(_J2K_SOC_SIZ, 0, 1 << 16)
    if start < 0:
        raise ValueError("no JPEG 2000 codestream header")
    siz = data[start + 4 : start + 4 + 38]  # Lsiz(2) Rsiz(2) Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz(4 each) Csiz(2)
    if len(siz) < 38:
        raise ValueError("the JPEG 2000 size segment is too short")
    x_size, y_size, x_offset, y_offset = (int.from_bytes(siz[i : i + 4], "big") for i in (4, 8, 12, 16))
    return FrameHeader(width=x_size - x_offset, height=y_size - y_offset, components=int.from_bytes(siz[36:38], "big"))
