//! Symbol packages (`.snupkg`) and the portable PDBs in them (owned by the nugetsym task;
//! stubbed).
