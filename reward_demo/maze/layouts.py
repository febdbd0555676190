"""D4RL Maze2D layouts and the geometry of gymnasium-robotics' PointMaze.

Grids are strings, rows top to bottom: ``'#'`` wall, ``'O'`` free, ``'G'`` free (the D4RL goal cell).
They are cell-for-cell the maps of gymnasium-robotics (``U_MAZE``, ``MEDIUM_MAZE``, ``LARGE_MAZE``)
and of D4RL maze2d.

Coordinates
-----------
Cells are indexed ``(row, col)``; continuous positions in (row, col) units are also used for the
reference goals (e.g. ``(1.3, 2.7)``), where the integer value is the cell centre.
PointMaze builds its MuJoCo world with ``maze_size_scaling = 1`` (see
``gymnasium_robotics/envs/maze/point_maze.py``) and centres the maze on the origin::

    x = col - (W - 1) / 2          y = (H - 1) / 2 - row

so one cell is one unit, x grows to the right (with the column) and y grows *up* (against the row).
Each wall cell is a 1 x 1 box centred on its cell centre; the ball has radius 0.1, so its centre stays
at least ~0.1 away from any wall face.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

MAZE_NAMES: tuple[str, ...] = ("umaze", "medium", "large")

_GRIDS: dict[str, tuple[str, ...]] = {
    "umaze": (
        "#####",
        "#GOO#",
        "###O#",
        "#OOO#",
        "#####",
    ),
    "medium": (
        "########",
        "#OO##OO#",
        "#OO#OOO#",
        "##OOO###",
        "#OO#OOO#",
        "#O#OO#O#",
        "#OOO#OG#",
        "########",
    ),
    "large": (
        "############",
        "#OOOO#OOOOO#",
        "#O##O#O#O#O#",
        "#OOOOOO#OOO#",
        "#O####O###O#",
        "#OO#O#OOOOO#",
        "##O#O#O#O###",
        "#OO#OOO#OGO#",
        "############",
    ),
}

# The 8 goals per maze of the reference runs, (row, col) in the grid above (floats: (1.3, 2.7) is
# off-centre in cell (1, 3)).  Order: as listed in method.md.
REFERENCE_GOALS: dict[str, tuple[tuple[float, float], ...]] = {
    "umaze": (
        (1.0, 1.0), (1.0, 2.0), (1.0, 3.0), (1.3, 2.7),
        (2.0, 3.0), (3.0, 1.0), (3.0, 2.0), (3.0, 3.0),
    ),
    "medium": (
        (1.0, 1.0), (1.0, 6.0), (2.0, 2.0), (4.0, 4.0),
        (4.0, 6.0), (5.0, 3.0), (6.0, 1.0), (6.0, 6.0),
    ),
    "large": (
        (1.0, 1.0), (1.0, 10.0), (3.0, 6.0), (3.0, 8.0),
        (5.0, 2.0), (5.0, 4.0), (7.0, 1.0), (7.0, 10.0),
    ),
}

WALL = "#"
BALL_RADIUS = 0.1  # radius of PointMaze's particle geom
#: a reward argmax counts as a goal hit within this many grid moves of the goal cell (the goal cell or a neighbour)
HIT_HOPS = 1


def _xy_index(x: np.ndarray, n: int) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=np.float64) + (n - 1) / 2.0 + 0.5).astype(np.int64)


@dataclass(frozen=True)
class MazeLayout:
    """A maze grid plus PointMaze's coordinate conventions (1 unit per cell, centred)."""

    name: str
    grid: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.grid or any(len(row) != len(self.grid[0]) for row in self.grid):
            raise ValueError(f"grid of maze {self.name!r} must be a non-empty rectangle of strings")
        if any(ch not in "#OG" for row in self.grid for ch in row):
            raise ValueError(f"grid of maze {self.name!r} may only contain '#', 'O' and 'G'")

    # ---------------------------------------------------------------- grid facts
    @property
    def height(self) -> int:
        """Number of rows (H)."""
        return len(self.grid)

    @property
    def width(self) -> int:
        """Number of columns (W)."""
        return len(self.grid[0])

    @functools.cached_property
    def free_mask(self) -> np.ndarray:
        """(H, W) bool array, True on free cells."""
        mask = np.array([[ch != WALL for ch in row] for row in self.grid], dtype=bool)
        mask.setflags(write=False)
        return mask

    def in_bounds(self, row: int, col: int) -> bool:
        return 0 <= row < self.height and 0 <= col < self.width

    def is_free(self, row: int, col: int) -> bool:
        """True if (row, col) is inside the grid and not a wall."""
        row, col = int(row), int(col)
        return self.in_bounds(row, col) and self.grid[row][col] != WALL

    def free_cells(self) -> list[tuple[int, int]]:
        """All free cells as (row, col) ints, row-major order."""
        return [(r, c) for r in range(self.height) for c in range(self.width) if self.grid[r][c] != WALL]

    @property
    def d4rl_goal_cell(self) -> tuple[int, int]:
        """The cell marked 'G' (D4RL's fixed goal)."""
        for r, row in enumerate(self.grid):
            c = row.find("G")
            if c >= 0:
                return (r, c)
        raise ValueError(f"maze {self.name!r} has no 'G' cell")

    def to_gymnasium_map(self) -> list[list[int]]:
        """The grid as gymnasium-robotics' ``maze_map`` (1 wall, 0 free; no goal marks, so its goal is random)."""
        return [[1 if ch == WALL else 0 for ch in row] for row in self.grid]

    def neighbours(self, row: int, col: int) -> list[tuple[int, int]]:
        """Free 4-neighbours of a cell, in the fixed order up, down, left, right."""
        out = []
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            r, c = row + dr, col + dc
            if self.is_free(r, c):
                out.append((r, c))
        return out

    # ---------------------------------------------------------------- coordinates
    def cell_to_xy(self, row, col):
        """(row, col) -> PointMaze (x, y). Vectorised; floats allowed (continuous (row, col) positions).

        Returns a tuple ``(x, y)`` of floats for scalar input, of float arrays for array input.
        """
        row_a = np.asarray(row, dtype=np.float64)
        col_a = np.asarray(col, dtype=np.float64)
        x = col_a - (self.width - 1) / 2.0
        y = (self.height - 1) / 2.0 - row_a
        if x.ndim == 0 and y.ndim == 0:
            return float(x), float(y)
        return x, y

    def xy_to_cell(self, x, y):
        """PointMaze (x, y) -> the (row, col) cell containing it (ints). Vectorised.

        Matches gymnasium-robotics' ``Maze.cell_xy_to_rowcol`` (floor-based) for scaling 1. Cells may be
        outside the grid for positions outside the maze.
        """
        col = _xy_index(x, self.width)
        row = np.floor((self.height - 1) / 2.0 - np.asarray(y, dtype=np.float64) + 0.5).astype(np.int64)
        if row.ndim == 0 and col.ndim == 0:
            return int(row), int(col)
        return row, col

    def xy_to_rowcol(self, x, y):
        """PointMaze (x, y) -> continuous (row, col) (inverse of ``cell_to_xy``). Vectorised."""
        x_a = np.asarray(x, dtype=np.float64)
        y_a = np.asarray(y, dtype=np.float64)
        col = x_a + (self.width - 1) / 2.0
        row = (self.height - 1) / 2.0 - y_a
        if row.ndim == 0 and col.ndim == 0:
            return float(row), float(col)
        return row, col

    def is_free_xy(self, xy) -> np.ndarray:
        """Bool array: is the cell containing each (x, y) free. ``xy``: (..., 2)."""
        xy = np.asarray(xy, dtype=np.float64)
        row, col = self.xy_to_cell(xy[..., 0], xy[..., 1])
        row = np.asarray(row)
        col = np.asarray(col)
        inside = (row >= 0) & (row < self.height) & (col >= 0) & (col < self.width)
        out = np.zeros(row.shape, dtype=bool)
        out[inside] = self.free_mask[row[inside], col[inside]]
        return out

    def position_bounds(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) reachable by the ball centre (free cells shrunk by the ball radius)."""
        rows, cols = np.nonzero(self.free_mask)
        x, y = self.cell_to_xy(rows, cols)
        r = 0.5 - BALL_RADIUS
        return float(x.min() - r), float(x.max() + r), float(y.min() - r), float(y.max() + r)

    # ---------------------------------------------------------------- distances
    def shortest_path_distances(self, goal_cell) -> np.ndarray:
        """(H, W) float array of BFS grid distances (4-neighbour moves) to ``goal_cell``.

        ``inf`` on walls and on free cells that cannot reach the goal. Raises ValueError for an invalid goal.
        """
        gr, gc = validate_goal_cell(self, goal_cell[0], goal_cell[1])
        return _bfs_distances(self, gr, gc).copy()

    def goal_hops(self, goal_row: float, goal_col: float, cell) -> float:
        """BFS grid distance from the cell containing the continuous goal (row, col) to ``cell``."""
        goal_cell = self.xy_to_cell(*self.cell_to_xy(goal_row, goal_col))
        return float(self.shortest_path_distances(goal_cell)[tuple(cell)])

    def is_goal_hit(self, goal_row: float, goal_col: float, cell) -> bool:
        """The hit criterion of the evaluation and the UI: ``cell`` (e.g. a reward argmax) is the goal's
        cell or one reachable in ``HIT_HOPS`` grid moves."""
        return self.goal_hops(goal_row, goal_col, cell) <= HIT_HOPS

    def distance_field(self, goal_xy, resolution: int = 16) -> "GeodesicField":
        """Approximate geodesic distance field to a continuous goal (cached). See ``GeodesicField``."""
        gx, gy = float(goal_xy[0]), float(goal_xy[1])
        validate_goal_xy(self, gx, gy)
        return _geodesic_field(self, round(gx, 6), round(gy, 6), int(resolution))

    def continuous_distance_to_goal(self, xy, goal_xy, resolution: int = 16) -> np.ndarray:
        """Approximate shortest-path (geodesic) distance, avoiding walls, from positions ``xy`` (..., 2) to
        ``goal_xy`` (2,).

        Approximation: free space is rasterised into ``resolution`` x ``resolution`` sub-cells per maze
        cell and Dijkstra runs over the 16-connected sub-cell graph (a move only when every sub-cell
        its segment crosses is free) from the exact goal position; a query point then takes the best
        of its 3 x 3 neighbouring sub-cells plus the straight-line offset to that sub-cell's centre.
        Points in the goal's own cell get the exact Euclidean distance (a cell is convex and free).
        It never undercuts the straight line and overestimates the exact geodesic slightly (measured
        in the U-maze at the default resolution 16: +0.02 in a straight corridor, +2 to +4 % around
        one or two corners); ordering along a path is preserved, which is what Spearman rank checks need.
        Positions in wall cells or outside the maze get ``inf``.
        """
        return self.distance_field(goal_xy, resolution)(xy)


class GeodesicField:
    """Precomputed approximate geodesic distances to one goal; call it on (..., 2) positions."""

    def __init__(self, layout: MazeLayout, goal_xy: tuple[float, float], resolution: int):
        import scipy.sparse
        import scipy.sparse.csgraph

        self.layout = layout
        self.goal = np.array(goal_xy, dtype=np.float64)
        self.res = res = int(resolution)
        if res < 1:
            raise ValueError(f"resolution must be >= 1, got {resolution}")
        fine = np.repeat(np.repeat(layout.free_mask, res, axis=0), res, axis=1)  # (H*res, W*res)
        self._fine_free = fine
        nh, nw = fine.shape
        n = nh * nw
        idx = np.arange(n).reshape(nh, nw)
        rows, cols, wts = [], [], []
        # 16-connected moves; a move is allowed only if every sub-cell its straight segment crosses is free
        moves = {
            (0, 1): [], (1, 0): [],
            (1, 1): [(0, 1), (1, 0)], (1, -1): [(0, -1), (1, 0)],
            (1, 2): [(0, 1), (1, 1)], (2, 1): [(1, 0), (1, 1)],
            (1, -2): [(0, -1), (1, -1)], (2, -1): [(1, 0), (1, -1)],
        }
        for (dr, dc), via in moves.items():
            ra, rb = max(0, -dr), nh - max(0, dr)  # rows r with r + dr in range
            ca, cb = max(0, -dc), nw - max(0, dc)
            a = (slice(ra, rb), slice(ca, cb))
            ok = fine[a] & fine[ra + dr:rb + dr, ca + dc:cb + dc]
            for vr, vc in via:
                ok = ok & fine[ra + vr:rb + vr, ca + vc:cb + vc]
            rows.append(idx[a][ok])
            cols.append(idx[ra + dr:rb + dr, ca + dc:cb + dc][ok])
            wts.append(np.full(int(ok.sum()), math.hypot(dr, dc) / res))
        # virtual source node n connected to the goal's sub-cell and its free 8-neighbours
        gr_f, gc_f = self._fine_index(self.goal[None])
        gr_f, gc_f = int(gr_f[0]), int(gc_f[0])
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                r, c = gr_f + dr, gc_f + dc
                if 0 <= r < nh and 0 <= c < nw and fine[r, c]:
                    centre = self._fine_centre(np.array([r]), np.array([c]))[0]
                    rows.append(np.array([n]))
                    cols.append(np.array([idx[r, c]]))
                    wts.append(np.array([max(float(np.linalg.norm(centre - self.goal)), 1e-9)]))
        rows_a = np.concatenate(rows)
        cols_a = np.concatenate(cols)
        wts_a = np.concatenate(wts)
        graph = scipy.sparse.coo_matrix((wts_a, (rows_a, cols_a)), shape=(n + 1, n + 1)).tocsr()
        dist = scipy.sparse.csgraph.dijkstra(graph, directed=False, indices=n)
        self.fine_dist = dist[:n].reshape(nh, nw)
        self.goal_cell = layout.xy_to_cell(self.goal[0], self.goal[1])

    def _fine_index(self, xy: np.ndarray):
        H, W, res = self.layout.height, self.layout.width, self.res
        col = np.floor((xy[..., 0] + W / 2.0) * res).astype(np.int64)
        row = np.floor((H / 2.0 - xy[..., 1]) * res).astype(np.int64)
        return row, col

    def _fine_centre(self, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        H, W, res = self.layout.height, self.layout.width, self.res
        x = (col + 0.5) / res - W / 2.0
        y = H / 2.0 - (row + 0.5) / res
        return np.stack([x, y], axis=-1)

    def __call__(self, xy) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        if xy.shape[-1] != 2:
            raise ValueError(f"xy must have shape (..., 2), got {xy.shape}")
        shape = xy.shape[:-1]
        pts = xy.reshape(-1, 2)
        nh, nw = self.fine_dist.shape
        fr, fc = self._fine_index(pts)
        best = np.full(len(pts), np.inf)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                r = fr + dr
                c = fc + dc
                ok = (r >= 0) & (r < nh) & (c >= 0) & (c < nw)
                rr = np.where(ok, r, 0)
                cc = np.where(ok, c, 0)
                d = np.where(ok & self._fine_free[rr, cc], self.fine_dist[rr, cc], np.inf)
                cand = d + np.linalg.norm(pts - self._fine_centre(rr, cc), axis=-1)
                best = np.minimum(best, cand)
        # exact inside the goal's own cell; inf outside free space
        cr, cc_ = self.layout.xy_to_cell(pts[:, 0], pts[:, 1])
        same = (cr == self.goal_cell[0]) & (cc_ == self.goal_cell[1])
        eucl = np.linalg.norm(pts - self.goal, axis=-1)
        best = np.where(same, eucl, best)
        best = np.where(self.layout.is_free_xy(pts), best, np.inf)
        return best.reshape(shape)


@functools.lru_cache(maxsize=256)
def _bfs_distances(layout: MazeLayout, goal_row: int, goal_col: int) -> np.ndarray:
    dist = np.full((layout.height, layout.width), np.inf)
    dist[goal_row, goal_col] = 0.0
    queue = deque([(goal_row, goal_col)])
    while queue:
        r, c = queue.popleft()
        for nr, nc in layout.neighbours(r, c):
            if dist[nr, nc] == np.inf:
                dist[nr, nc] = dist[r, c] + 1.0
                queue.append((nr, nc))
    dist.setflags(write=False)
    return dist


@functools.lru_cache(maxsize=512)
def _geodesic_field(layout: MazeLayout, gx: float, gy: float, resolution: int) -> GeodesicField:
    return GeodesicField(layout, (gx, gy), resolution)


# -------------------------------------------------------------------- lookup and validation
_LAYOUTS: dict[str, MazeLayout] = {name: MazeLayout(name, grid) for name, grid in _GRIDS.items()}


def get_layout(name: str) -> MazeLayout:
    """The layout called ``name`` (one of ``MAZE_NAMES``); ValueError otherwise."""
    if not isinstance(name, str) or name not in _LAYOUTS:
        raise ValueError(f"maze must be one of {list(MAZE_NAMES)}, got {name!r}")
    return _LAYOUTS[name]


def reference_goals(name: str) -> np.ndarray:
    """(8, 2) float array of the reference goals of maze ``name`` as (row, col)."""
    get_layout(name)
    return np.array(REFERENCE_GOALS[name], dtype=np.float64)


def reference_goals_xy(name: str) -> np.ndarray:
    """(8, 2) float array of the reference goals of maze ``name`` in PointMaze (x, y)."""
    layout = get_layout(name)
    rc = reference_goals(name)
    x, y = layout.cell_to_xy(rc[:, 0], rc[:, 1])
    return np.stack([x, y], axis=-1)


def _as_int_index(value, what: str) -> int:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an integer cell index, got {value!r}") from None
    if not math.isfinite(f) or f != int(f):
        raise ValueError(f"{what} must be an integer cell index, got {value!r}")
    return int(f)


def validate_goal_cell(layout: MazeLayout, row, col) -> tuple[int, int]:
    """Check that (row, col) is an integer free cell of ``layout``; return it as ints. ValueError otherwise."""
    r = _as_int_index(row, "goal row")
    c = _as_int_index(col, "goal col")
    if not layout.in_bounds(r, c):
        raise ValueError(
            f"goal cell (row={r}, col={c}) is outside maze {layout.name!r}: row must be in "
            f"0..{layout.height - 1} and col in 0..{layout.width - 1}, and the cell must be free "
            f"(free cells: {layout.free_cells()})"
        )
    if not layout.is_free(r, c):
        raise ValueError(
            f"goal cell (row={r}, col={c}) is a wall in maze {layout.name!r}; "
            f"allowed goal cells are the free cells {layout.free_cells()}"
        )
    return r, c


def finite_pair(a, b, what: str) -> tuple[float, float]:
    """(a, b) as floats; a ValueError naming ``what`` (e.g. "goal (x, y)") when either is not a finite number."""
    try:
        af, bf = float(a), float(b)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers, got ({a!r}, {b!r})") from None
    if not (math.isfinite(af) and math.isfinite(bf)):
        raise ValueError(f"{what} must be finite, got ({a!r}, {b!r})")
    return af, bf


def validate_goal_position(layout: MazeLayout, row, col) -> tuple[float, float]:
    """Check a continuous (row, col) goal (e.g. (1.3, 2.7)) lies in a free cell; return it as floats."""
    r, c = finite_pair(row, col, "goal position (row, col)")
    cell = (math.floor(r + 0.5), math.floor(c + 0.5))
    if not layout.is_free(*cell):
        raise ValueError(
            f"goal position (row={r:g}, col={c:g}) lies in cell {cell} of maze {layout.name!r}, which is "
            f"{'outside the grid' if not layout.in_bounds(*cell) else 'a wall'}; allowed: positions within "
            f"0.5 of a free cell's centre (free cells: {layout.free_cells()})"
        )
    return r, c


def validate_goal_xy(layout: MazeLayout, x, y) -> tuple[float, float]:
    """Check a PointMaze (x, y) goal lies in a free cell of ``layout``; return it as floats."""
    xf, yf = finite_pair(x, y, "goal (x, y)")
    cell = layout.xy_to_cell(xf, yf)
    if not layout.is_free(*cell):
        x0, x1, y0, y1 = layout.position_bounds()
        raise ValueError(
            f"goal (x={xf:g}, y={yf:g}) lies in cell {cell} of maze {layout.name!r}, which is "
            f"{'outside the grid' if not layout.in_bounds(*cell) else 'a wall'}; allowed: a position in a "
            f"free cell (x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}], free cells {layout.free_cells()})"
        )
    return xf, yf
