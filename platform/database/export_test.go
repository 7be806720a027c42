package database

// SplitStatements lets the external tests check the migration splitter.
var SplitStatements = splitStatements
