"""Operations: the `tracklog` command, the admin socket, doctor, import and export."""
