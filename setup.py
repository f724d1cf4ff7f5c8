"""Package metadata read from settings.ini (nbdev-style)."""
from configparser import ConfigParser

import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

setuptools.setup(
    name=cfg['lib_name'], version=cfg['version'], description=cfg['description'], license=cfg['license'],
    keywords=cfg['keywords'].split(), python_requires=f">={cfg['min_python']}",
    packages=setuptools.find_packages(include=['fastseq', 'fastseq.*']),
    package_data={'fastseq': ['static/*.html']},
    install_requires=cfg['requirements'].split(),
    extras_require={'dev': cfg['dev_requirements'].split(), 'serve': cfg['serve_requirements'].split()},
    entry_points={'console_scripts': cfg['console_scripts'].split()},
)
