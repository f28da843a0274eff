// Stands for a module calling into one it does not link.
int defined_in_an_unlinked_module();

int uses_unlinked() { return defined_in_an_unlinked_module(); }
