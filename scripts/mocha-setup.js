'use strict';
// Quiet logs under test unless MESHD_LOG_LEVEL asks for them.
process.env.MESHD_TEST = '1';
