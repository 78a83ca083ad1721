"""What a run shows: reports in every format, unified diffs, and the generated codemod docs."""
