"""Cut a NIfTI volume into axial 8-bit slices in radiological display orientation, from its affine.

Pure functions over bytes (nibabel, numpy). The volume is first reoriented to the closest
canonical RAS+ frame (x: left -> right, y: posterior -> anterior, z: inferior -> superior), so the
affine decides which array axis is axial, whatever order the file stores them in. Each axial
slice is then shown as radiologists read it: the patient's anterior at the top and the patient's
right on the viewer's left. Slices run from inferior to superior.
Only the image and its geometry are used: the header's free-text fields (descrip, aux_file,
db_name, intent_name) are never read into anything that is kept.
"""

from dataclasses import dataclass

import numpy as np

from scans.images import check_pixel_count
from scans.errors import ScanRejected
from studies.errors import StudyRejected


@dataclass
class Volume:
    slices: list[np.ndarray]  # uint8 (rows, columns) each, in display orientation, inferior -> superior
    parameters: dict  # reading parameters: voxel size


def _load(data: bytes):
    import nibabel  # only imported when a volume arrives

    for image_class in (nibabel.Nifti1Image, nibabel.Nifti2Image):
        try:
            return image_class.from_bytes(data)
        except Exception:  # the wrong class, or a damaged header: try the next, then refuse
            continue
    raise StudyRejected("The NIfTI file is damaged or incomplete and cannot be read. Nothing was stored.")


def radiological_axial(volume_ras: np.ndarray, index: int) -> np.ndarray:
    """Axial slice `index` of a RAS+ volume (x, y, z) -> (rows, columns) with anterior up and the patient's right on the left.

    volume[:, :, k] is (x, y); transposed it is (y, x): rows from posterior to anterior, columns
    from the patient's left to right. Flipping both puts anterior on top and right on the left.
    """
    plane = volume_ras[:, :, index].T  # (y, x)
    return plane[::-1, ::-1]


def read_volume(data: bytes, *, max_slices: int, max_pixels: int, max_voxels: int) -> Volume:
    """NIfTI-1/2 bytes -> Volume, or StudyRejected. Bounded before the voxels are read."""
    import nibabel

    image = _load(data)
    shape = tuple(int(size) for size in image.shape)
    # A trailing axis of length one (x, y, z, 1) is still one volume; anything else 4-D is several.
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) != 3:
        raise StudyRejected(
            f"The NIfTI file holds a {len(shape)}-D image {shape}; NeuroScan reads one 3-D volume "
            "(for a time series or diffusion data, export one volume). Nothing was stored."
        )
    try:
        canonical = nibabel.as_closest_canonical(image)
    except Exception:
        raise StudyRejected("The NIfTI file's orientation (affine) cannot be read. Nothing was stored.") from None
    columns, rows, depth = (int(size) for size in canonical.shape[:3])
    try:
        check_pixel_count(columns, rows, max_pixels=max_pixels)
    except ScanRejected as rejection:
        raise StudyRejected(f"{rejection.message} Nothing was stored.", code="too_large") from None
    if depth > max_slices:
        raise StudyRejected(
            f"The volume has {depth} axial slices; a study takes at most {max_slices}. Nothing was stored.", code="too_large"
        )
    if columns * rows * depth > max_voxels:
        raise StudyRejected(
            f"The volume has {columns * rows * depth:,} voxels; a study takes at most {max_voxels:,}. Nothing was stored.",
            code="too_large",
        )
    try:
        voxels = np.asarray(canonical.dataobj, dtype=np.float32).reshape(columns, rows, depth)  # (x, y, z)
    except Exception:
        raise StudyRejected("The NIfTI file's image data is damaged or incomplete. Nothing was stored.") from None
    voxels = np.nan_to_num(voxels, nan=0.0, posinf=0.0, neginf=0.0)
    scaled = _window(voxels)
    zooms = [float(value) for value in canonical.header.get_zooms()[:3]]
    parameters = {
        "pixel_spacing_mm": [round(zooms[1], 4), round(zooms[0], 4)],  # rows (y), columns (x)
        "slice_thickness_mm": round(zooms[2], 4),
    }
    return Volume(slices=[radiological_axial(scaled, index).copy() for index in range(depth)], parameters=parameters)


def _window(voxels: np.ndarray) -> np.ndarray:
    """One grey-level window for the whole volume (0.5th..99.5th percentile of non-zero voxels) -> uint8.

    The same window on every slice, so that slices compare: a per-slice stretch would make an empty
    slice as bright as the densest one.
    """
    tissue = voxels[voxels != 0]
    if tissue.size == 0:
        return np.zeros(voxels.shape, dtype=np.uint8)
    low, high = np.percentile(tissue, [0.5, 99.5])
    if high <= low:
        high = low + 1.0
    return np.round(np.clip((voxels - low) / (high - low), 0.0, 1.0) * 255.0).astype(np.uint8)
