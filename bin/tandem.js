#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (npm run build).
import '../dist/cli/main.js';
