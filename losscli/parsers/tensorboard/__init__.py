"""TensorBoard event files, read without TensorFlow, in the order the data flows:

- `folders`: which event files make one run, and the tag a point gets from its file's sub-folder;
- `records`, `checksums`: the TFRecord framing of one file, its CRC checks and resynchronisation after damage;
- `layouts`: the byte layouts writers give a scalar event;
- `columns`, `templates`, `decode`, `fields`: decoding the records with numpy (runs of repeating records column
  by column, the others by template, record length by record length, then field by field), protobuf only for
  what is left;
- `collect`: where the decoders put the points of one file;
- `reader`: the format itself, and one run's files assembled into the frame.
"""
