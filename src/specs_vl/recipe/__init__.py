"""The SPECS stages, one file each: zero, distill, coldstart, rl."""
