#!/usr/bin/python3
"""An X11 drag source for the end-to-end tests: a small GTK 3 window that offers a list of files
as `text/uri-list` (what a file manager offers when you drag files out of it).

Usage: drag_source.py LIST X Y
  LIST  a text file with one absolute path per line
  X Y   where to put the window on the (window-manager-less) Xvfb screen

Prints `ready` once the window is mapped, `sent N` when the drop target asked for the data and
`end` when the drag is over; then exits. The pointer itself is moved by the test (xdotool, XTest),
so the drag goes through the real XDND protocol into the app's window.
"""
import sys
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402


def main() -> None:
    paths = [p for p in Path(sys.argv[1]).read_text().splitlines() if p]
    uris = [Path(p).as_uri() for p in paths]
    x, y = int(sys.argv[2]), int(sys.argv[3])

    win = Gtk.Window(title="syrinx-drag-source")
    win.set_decorated(False)
    win.set_default_size(72, 72)
    win.move(x, y)
    box = Gtk.EventBox()
    box.add(Gtk.Label(label=f"{len(uris)}\nfiles"))
    win.add(box)
    box.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
    box.drag_source_add_uri_targets()

    def data_get(_w, _ctx, sel, _info, _time):
        sel.set_uris(uris)
        print(f"sent {len(uris)}", flush=True)

    def end(*_a):
        print("end", flush=True)
        GLib.timeout_add(300, Gtk.main_quit)

    box.connect("drag-data-get", data_get)
    box.connect("drag-end", end)
    win.connect("map-event", lambda *_a: print("ready", flush=True))
    win.connect("destroy", Gtk.main_quit)
    win.show_all()
    Gtk.main()


if __name__ == "__main__":
    main()
