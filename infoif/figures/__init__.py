"""Plotly figures of interfaces learning, from plain numpy arrays: one module per page's charts.

    style        the shared look: template, colours and colour scales, titles, axes, small-multiple grids
    checks       the input checks every builder runs first (a ValueError that names the argument)
    curves       curves over epochs (Train and Compare pages): TensorBoard's smoothing, thinning for display
    table        `figure_data`: the data behind any figure as a tidy table (the pages' CSV downloads)
    data         Data page: a 2-D dataset's scatter plot
    model        Model page: the architecture diagram
    train        Train page: loss and metric curves
    interfaces   Interfaces page, tabs Weights, Outputs and Energy: kernels, kernel norms, similarity,
                 distribution bands, output histograms, energy curves, final energy
    input_plane  Interfaces page, tab Input plane: decision surface, each interface over the plane
    information  Information page: information plane, clustering
    compare      Compare page: runs overlaid, sweeps (metric against a setting, parallel coordinates)

Every public `*_figure` function takes arrays, lists or a DataFrame (never a
model, a run or a snapshot), checks them first, and returns a
`plotly.graph_objects.Figure`. Import each name from the module that defines
it (this package re-exports nothing):

    from infoif.figures.interfaces import kernel_norm_figure
    from infoif.figures.table import figure_data
    from infoif.figures.train import loss_curves_figure

    fig = kernel_norm_figure(epochs, norms)        # (E,), (E, N)
    fig = loss_curves_figure(epochs, {"train": loss, "validation": val_loss}, smoothing=0.6)
    table = figure_data(fig)                       # the data behind it, tidy

Bad input raises `ValueError` naming the argument, the shape or value it got
and what it needs. All figures share one look (`plotly_white`, compact
margins, axis titles, hover text with units) and one colour per interface
(`interface_colors`), labelled "if 0", "if 1", ...

Built for a dashboard that redraws ~10 figures a second: one trace per
interface (the distribution bands: one per percentile), never one per epoch;
heat maps where a tangle of lines would not read; WebGL lines only for large
figures; small-multiple grids with coupled axes (one x axis per column, one y
axis per row: 16 axes for 64 panels, where `make_subplots` makes 128 and takes
~55 ms); figures assembled from plain dicts without plotly's per-property
validation (`infoif.figures.style`).

The modules import no Keras, TensorFlow or Streamlit, and pandas only when a
function that needs it is called.
"""


def import_all() -> list:
    """Every module of this package, imported: the server imports them before it freezes the
    garbage collector's long-lived objects (`pages/_ui.service`), whatever modules are added."""
    import importlib
    import pkgutil

    return [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]
