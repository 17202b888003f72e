"""A small hand-written Meta Kaggle with every quirk the seed must survive, and what it yields."""

from __future__ import annotations

from pathlib import Path

USERS = b"""Id,UserName,DisplayName,RegisterDate,PerformanceTier,Country,LocationSharingOptOut
1,alice,Alice,01/02/2015,1,,False
2,bob,"Bob \xff\xfe Broken",03/04/2016,0,France,False
3,carol,Carol,05/06/2017,2,,True
4.0,dave,Dave,07/08/2018,0,,False
5,,No Name,07/08/2018,0,,False
99,unused,Never Owns,07/08/2018,0,,False
"""

ORGANIZATIONS = b"""Id,Name,Slug,CreationDate,Description
10,Acme Corp,acme,01/01/2018 00:00:00,"An org
with a multi-line description"
11,Empty Org,,01/01/2018,no slug
"""

TAGS = b"""Id,ParentTagId,Name,Slug,FullPath,Description,DatasetCount,CompetitionCount,KernelCount
100,,computer science,computer-science,computer science,CS,10,1,2
101,100,nlp,nlp,computer science > nlp,"Natural
language",5,0,1
102,,finance,finance,finance,,3,0,0
"""

DATASET_TAGS = b"""Id,DatasetId,TagId
1,1,101
2,1,100
3,1,101
4,2,102
5,3.0,100
6,999,100
7,2,555
8,,100
"""

VERSIONS = b"""Id,DatasetId,DatasourceVersionId,CreatorUserId,LicenseName,CreationDate,VersionNumber,Title,Slug,Subtitle,Description,VersionNotes,TotalCompressedBytes,TotalUncompressedBytes
500,1,500,1,CC0: Public Domain,01/02/2019 10:00:00,1,Old Title,old-slug,old sub,old description,,1,2
501,1,501,1,CC0: Public Domain,02/03/2020 11:12:13,2,"Titanic, cleaned",titanic-clean,Survival data,"Line one
Line ""two"", with a comma

Line four",Notes,100,200
502,2,502,2,MIT,05/06/2020,1,Org Dataset,acme-data,An org-owned dataset,Org description,,10,20
503.0,3.0,503,4,CC BY-SA 4.0,05/06/2020,1.0,Float Ids,float-ids,,  Padded description  ,,10,20
504,4,504,1,Unknown,05/06/2020,1,"Caf\xe9 data \xff",cafe-data,sub,"broken \xc3\x28 bytes
on two lines",,1,1
506,6,506,1,MIT,05/06/2020,1,Blank Slug,,,,,1,1
507,7,507,1,MIT,05/06/2020,1,Unknown Owner,unknown-owner,,,,1,1
508,8,508,1,MIT,05/06/2020,1,Dup Old,dup-id-old,,,,1,1
509,8,509,1,MIT,05/06/2020,2,Dup New,dup-id-new,,,,1,1
510,9,510,1,MIT,05/06/2020,1,No Owner,no-owner,,,,1,1
512,12,512,2,MIT,05/06/2020,1,Shared Old,shared,,,,1,1
513,13,513,2,MIT,05/06/2020,1,Shared New,shared,,,,1,1
514,14,514,3,,05/06/2020,1,Counts,counts,,,,1,1
515,15,515,5,MIT,05/06/2020,1,Nameless Owner,nameless,,,,1,1
"""

DATASETS = b"""Id,CreatorUserId,OwnerUserId,OwnerOrganizationId,CurrentDatasetVersionId,CurrentDatasourceVersionId,ForumId,Type,CreationDate,LastActivityDate,TotalViews,TotalDownloads,TotalVotes,TotalKernels,Medal,MedalAwardDate
1,1,1,,501,501,1,2,02/03/2020 11:12:13,03/04/2021,1000,200,30,4,,
2,2,,10,502,502,2,2,05/06/2020,not a date,50,5,1,0,1,06/07/2021
3.0,4.0,4.0,,503.0,503,3,2,13/45/2020 99:00:00,12/31/2022 23:59:59,7.0,3.0,2.0,,,
4,1,1,,504,504,4,2,01/02/2020 03:04:05,01/02/2021,10,5,1,0,,
5,1,1,,599,599,5,2,01/02/2020,01/02/2021,1,1,1,0,,
6,1,1,,506,506,6,2,01/02/2020,01/02/2021,1,1,1,0,,
7,77,77,,507,507,7,2,01/02/2020,01/02/2021,1,1,1,0,,
8,1,1,,508,508,8,2,01/02/2020,01/02/2021,1,1,1,0,,
8,1,1,,509,509,8,2,01/02/2020,06/02/2021,2,2,2,0,,
9,1,,,510,510,9,2,01/02/2020,01/02/2021,1,1,1,0,,
10,1,1,,,,10,2,01/02/2020,01/02/2021,1,1,1,0,,
,1,1,,501,501,11,2,01/02/2020,01/02/2021,1,1,1,0,,
abc,1,1,,501,501,11,2,01/02/2020,01/02/2021,1,1,1,0,,
12,2,2,,512,512,12,2,01/02/2020,01/02/2021,1,1,1,0,,
13,2,2,,513,513,13,2,01/02/2020,01/02/2021,1,1,1,0,,
14,3,3,,514,514,14,2,01/02/2020,01/02/2021,-5,1e3,,0,,
15,5,5,,515,515,15,2,01/02/2020,01/02/2021,1,1,1,0,,
16,1,1
"""

FILES = {
    "Datasets": DATASETS,
    "DatasetVersions": VERSIONS,
    "Users": USERS,
    "Organizations": ORGANIZATIONS,
    "Tags": TAGS,
    "DatasetTags": DATASET_TAGS,
}

# ref -> (dataset id, title) of every dataset that must come out of the fixture.
EXPECTED_REFS = {
    "alice/titanic-clean": 1,
    "acme/acme-data": 2,
    "dave/float-ids": 3,
    "alice/cafe-data": 4,
    "alice/dup-id-new": 8,
    "bob/shared": 13,
    "carol/counts": 14,
}
EXPECTED_SKIPPED = {
    "invalid_dataset_id": 2,
    "duplicate_dataset_id": 1,
    "no_current_version": 1,
    "current_version_missing": 1,
    "blank_slug": 1,
    "no_owner": 1,
    "owner_not_found": 2,
    "invalid_ref": 0,
    "duplicate_ref": 1,
}
EXPECTED_LINES_READ = 17  # the 18th data line ("16,1,1") is malformed and rejected by the reader


def write_meta_kaggle(folder: Path, files: dict[str, bytes] | None = None) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, content in (files or FILES).items():
        path = folder / f"{name}.csv"
        path.write_bytes(content)
        paths[name] = path
    return paths
